defmodule PyPort do
  @moduledoc """
  The source's `PyPort`, fixed: one Python worker (`python -m mlcourse.port.etf_worker`) behind
  an Erlang port. `{ref, features}` goes out as `:erlang.term_to_binary/1`, `{ref, {:ok, prediction}}`
  or `{ref, {:error, reason}}` comes back, framed by `{:packet, 2}` on the worker's fds 3 and 4.

  What changed from the sample:

    * a reply goes to the caller whose ref it carries (the sample zipped `Map.keys(in_flight)`
      with the results, so with two requests in flight a caller could get another's answer);
    * the in-flight map (`ref => {from, timer}`) is kept in the state and every entry leaves it
      exactly once: by its reply, by its timeout, or by the worker's exit;
    * `:exit_status` is handled: every caller in flight gets `{:error, {:worker_exited, status}}`,
      then this process stops and its `PyPort.Supervisor` starts a fresh one with a fresh worker
      (and the same when the port closes without a status, on a write to a worker just dead);
    * a request unanswered after its timeout (1 s) gets `{:error, :timeout}`; its late reply is
      dropped by ref. The worker is kept (d4 kills it instead: a wedged worker is its bet);
    * `init/1` returns once the worker has answered a first request, so a caller's 1 s is never
      spent on Python's imports and the model's loading.
  """
  use GenServer
  require Logger

  @timeout_ms 1_000
  @start_timeout_ms 15_000
  # Atoms the worker's replies may carry: :safe decoding refuses atoms this VM has never seen.
  @reply_atoms [:ok, :error, :nil, :slept, :label, :probabilities, :bad_frame, :bad_term, :bad_features,
                :bad_sleep, :too_large]

  @doc "Options from the environment the course's Python side sets (mlcourse.port.elixir)."
  def config_from_env do
    [python: System.fetch_env!("PYPORT_PYTHON"), model: System.fetch_env!("PYPORT_MODEL"),
     cd: System.get_env("PYPORT_CWD", File.cwd!())]
  end

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: Keyword.get(opts, :name, __MODULE__))

  @doc "The prediction for four measurements: `{:ok, %{label: ..., probabilities: ...}}` or `{:error, reason}`."
  def predict(features, timeout_ms \\ @timeout_ms, server \\ __MODULE__), do: request(features, timeout_ms, server)

  @doc "Any request body the worker understands, e.g. `{:sleep, 1500}`; never raises, never waits past timeout."
  def request(body, timeout_ms \\ @timeout_ms, server \\ __MODULE__) do
    GenServer.call(server, {:request, body, timeout_ms}, timeout_ms + 1_000)
  catch
    :exit, {:noproc, _} -> {:error, :not_running}
    :exit, {{:worker_exited, _} = reason, _} -> {:error, reason}
    :exit, {reason, _} -> {:error, {:down, reason}}
  end

  @doc "The operating-system pid of the current worker (to kill it in a test)."
  def os_pid(server \\ __MODULE__), do: GenServer.call(server, :os_pid)

  @impl true
  def init(opts) do
    Process.flag(:trap_exit, true)  # so terminate/2 runs, and closes the port, when the supervisor stops us
    packet = Keyword.get(opts, :packet, 2)
    args = ["-m", "mlcourse.port.etf_worker", Keyword.fetch!(opts, :model), "--packet", to_string(packet)]
    port = Port.open({:spawn_executable, Keyword.fetch!(opts, :python)},
                     [:binary, {:packet, packet}, :nouse_stdio, :exit_status, args: args,
                      cd: Keyword.get(opts, :cd, File.cwd!())])
    await_ready(port, Keyword.get(opts, :start_timeout_ms, @start_timeout_ms))
  end

  # Started means able to answer: a first request ({:sleep, 0}) is answered before init returns,
  # so no caller's 1 s is spent on Python's imports and the model's loading.
  defp await_ready(port, start_timeout_ms) do
    ref = make_ref()
    Port.command(port, :erlang.term_to_binary({ref, {:sleep, 0}}))
    receive do
      {^port, {:data, data}} ->
        case decode(data) do
          {:ok, {^ref, {:ok, :slept}}} -> {:ok, %{port: port, in_flight: %{}}}
          _ -> Port.close(port)
               {:stop, {:worker_not_ready, data}}
        end
      {^port, {:exit_status, status}} -> {:stop, {:worker_exited, status}}
    after
      start_timeout_ms -> Port.close(port)
                          {:stop, :worker_start_timeout}
    end
  end

  @impl true
  def handle_call({:request, body, timeout_ms}, from, state) do
    ref = make_ref()
    try do
      Port.command(state.port, :erlang.term_to_binary({ref, body}))
    rescue
      ArgumentError -> {:reply, {:error, :worker_closing}, state}  # it died; its :exit_status is on its way
    else
      true ->
        timer = Process.send_after(self(), {:request_timeout, ref}, timeout_ms)
        {:noreply, %{state | in_flight: Map.put(state.in_flight, ref, {from, timer})}}
    end
  end

  def handle_call(:os_pid, _from, state) do
    {:os_pid, pid} = Port.info(state.port, :os_pid)
    {:reply, pid, state}
  end

  @impl true
  def handle_info({port, {:data, data}}, %{port: port} = state) do
    case decode(data) do
      {:ok, {ref, result}} -> {:noreply, reply(state, ref, result)}
      :error -> Logger.warning("PyPort: a reply that is not {ref, result}: #{inspect(data, limit: 20)}")
                {:noreply, state}
    end
  end

  def handle_info({:request_timeout, ref}, state), do: {:noreply, reply(state, ref, {:error, :timeout})}

  def handle_info({port, {:exit_status, status}}, %{port: port} = state), do: worker_gone(state, status)

  # A write to a worker that has just died can close the port first (:epipe): then no :exit_status
  # follows, only this, and it must end the worker's requests just the same.
  def handle_info({:EXIT, port, reason}, %{port: port} = state), do: worker_gone(state, reason)

  defp worker_gone(state, status) do
    for {_ref, {from, timer}} <- state.in_flight do
      Process.cancel_timer(timer)
      GenServer.reply(from, {:error, {:worker_exited, status}})
    end
    {:stop, {:worker_exited, status}, %{state | port: nil, in_flight: %{}}}
  end

  @impl true
  def terminate(_reason, %{port: port}) when is_port(port) do
    # Closing fd 3 is the worker's signal to exit; it is an orphan otherwise.
    if Port.info(port) != nil, do: Port.close(port)
  end

  def terminate(_reason, _state), do: :ok

  @doc false
  def reply_atoms, do: @reply_atoms

  defp decode(data) do
    case :erlang.binary_to_term(data, [:safe]) do
      {_ref, _result} = reply -> {:ok, reply}
      _ -> :error
    end
  rescue
    ArgumentError -> :error
  end

  # The one place a reply reaches a caller: matched by ref, removed from the map, timer cancelled.
  defp reply(state, ref, result) do
    case Map.pop(state.in_flight, ref) do
      {nil, _} -> state  # answered already (a late reply after its timeout): dropped
      {{from, timer}, in_flight} ->
        Process.cancel_timer(timer)
        GenServer.reply(from, result)
        %{state | in_flight: in_flight}
    end
  end
end
