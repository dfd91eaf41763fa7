# elixir elixir/bench.exs REQUESTS KILLS FEATURE...   (the environment as for PyPort.config_from_env/0)
# Round trips per second through PyPort with 1, 8 and 64 requests in flight (REQUESTS each, at most
# 10 s a level), then the time from `kill -9` of the worker to the next answer, KILLS times.
# Prints one JSON line; mlcourse.port.elixir.etf_bench reads it.
for file <- ~w(mini_json py_port py_port_supervisor), do: Code.require_file("lib/#{file}.ex", __DIR__)
Logger.configure(level: :critical)  # the restarts are the point here, not news

defmodule Bench do
  @max_us 10_000_000

  def now, do: System.monotonic_time(:microsecond)

  # `in_flight` callers, each sending its next request when its last one is answered.
  def round_trips(features, in_flight, requests) do
    sent = :counters.new(1, [])
    {started, stop_at} = {now(), now() + @max_us}
    caller = fn -> caller(features, sent, requests, stop_at) end
    1..in_flight |> Enum.map(fn _ -> Task.async(caller) end) |> Task.await_many(:infinity)
    :counters.get(sent, 1) / ((now() - started) / 1.0e6)
  end

  defp caller(features, sent, requests, stop_at) do
    :counters.add(sent, 1, 1)
    {:ok, _} = PyPort.predict(features)
    if :counters.get(sent, 1) < requests and now() < stop_at, do: caller(features, sent, requests, stop_at)
  end

  # Milliseconds from kill -9 of the worker to the next answered request.
  def kill_to_answer(features) do
    {:ok, _} = PyPort.predict(features)
    System.cmd("kill", ["-9", Integer.to_string(PyPort.os_pid())])
    first_answer(features, now())
  end

  defp first_answer(features, killed_at) do
    case PyPort.predict(features) do
      {:ok, _} -> (now() - killed_at) / 1_000
      error -> if now() - killed_at > @max_us, do: raise("no answer within 10 s of the kill: #{inspect(error)}")
           Process.sleep(1)
           first_answer(features, killed_at)
    end
  end
end

[requests, kills | features] = System.argv()
{requests, kills} = {String.to_integer(requests), String.to_integer(kills)}
features = Enum.map(features, fn x -> elem(Float.parse(x), 0) end)
{:ok, _} = PyPort.Supervisor.start_link(PyPort.config_from_env() ++ [max_restarts: kills + 1, max_seconds: 60])
{:ok, _} = PyPort.predict(features)
rates = for n <- [1, 8, 64], into: %{}, do: {"in_flight_#{n}", Bench.round_trips(features, n, requests)}
kill_ms = for _ <- 1..kills//1, do: Bench.kill_to_answer(features)
IO.puts(MiniJSON.encode(Map.put(rates, "kill_to_answer_ms", kill_ms)))
