defmodule PyPort.Supervisor do
  @moduledoc """
  Restarts `PyPort` (and with it the Python worker) when the worker dies, at most `max_restarts`
  times in `max_seconds`; past that intensity it gives up and exits, so its own supervisor, or a
  person, learns that something is wrong for good (d4's `RestartIntensityExceeded`).
  """
  use Supervisor

  def start_link(opts) do
    {sup_opts, opts} = Keyword.split(opts, [:supervisor_name])
    Supervisor.start_link(__MODULE__, opts, name: Keyword.get(sup_opts, :supervisor_name, __MODULE__))
  end

  @impl true
  def init(opts) do
    {max_restarts, opts} = Keyword.pop(opts, :max_restarts, 3)
    {max_seconds, opts} = Keyword.pop(opts, :max_seconds, 5)
    Supervisor.init([{PyPort, opts}], strategy: :one_for_one, max_restarts: max_restarts, max_seconds: max_seconds)
  end
end
