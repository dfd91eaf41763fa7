defmodule PyPortTest do
  use ExUnit.Case  # not async: the tests share the registered name PyPort

  # Generous where the test is not about the 1 s timeout: a loaded CI machine can stall for a moment.
  @patient_ms 5_000

  # Rows and the Python model's own predictions for them, written by tests/test_elixir.py.
  @expected System.fetch_env!("PYPORT_EXPECTED") |> File.read!() |> :erlang.binary_to_term()

  setup do
    start_supervised!({PyPort.Supervisor, PyPort.config_from_env() ++ [max_restarts: 3, max_seconds: 5]})
    :ok
  end

  defp assert_prediction({features, label, probabilities}, answer) do
    assert {:ok, %{label: ^label, probabilities: got}} = answer, "#{inspect(features)}: #{inspect(answer)}"
    for {name, p} <- probabilities, do: assert_in_delta(got[name], p, 1.0e-12)
  end

  test "predictions equal the Python model's for the same rows, each reply to its own caller" do
    # All rows at once: the sample's zipping of Map.keys with results would hand some callers another's answer.
    @expected
    |> Task.async_stream(fn {features, _, _} = row -> {row, PyPort.predict(features, @patient_ms)} end, max_concurrency: 64, timeout: @patient_ms * 2)
    |> Enum.each(fn {:ok, {row, answer}} -> assert_prediction(row, answer) end)
  end

  test "a bad request fails alone" do
    assert {:error, {:bad_features, message}} = PyPort.predict([1.0, 2.0], @patient_ms)
    assert message =~ "expected 4 finite numbers"
    assert {:error, {:bad_features, _}} = PyPort.predict("not a list", @patient_ms)
    [row | _] = @expected
    assert_prediction(row, PyPort.predict(elem(row, 0), @patient_ms))
  end

  test "a request past 1 s gets {:error, :timeout}, and its late reply reaches nobody" do
    started = System.monotonic_time(:millisecond)
    assert PyPort.request({:sleep, 1_500}) == {:error, :timeout}
    elapsed = System.monotonic_time(:millisecond) - started
    assert elapsed >= 1_000, "timed out after #{elapsed} ms"
    # The worker answers this one after the sleep; the sleep's own late reply must not be taken for it.
    [row | _] = @expected
    assert_prediction(row, PyPort.predict(elem(row, 0), @patient_ms))
  end

  test "survives kill -9 of the worker: callers in flight are told, a new worker answers within the window" do
    supervisor = Process.whereis(PyPort.Supervisor)
    old_pid = PyPort.os_pid()
    in_flight = Task.async(fn -> PyPort.request({:sleep, 5_000}, @patient_ms * 2) end)
    Process.sleep(100)
    System.cmd("kill", ["-9", Integer.to_string(old_pid)])
    assert Task.await(in_flight, @patient_ms * 3) == {:error, {:worker_exited, 137}}
    [row | _] = @expected
    {answer, waited_ms} = first_answer(elem(row, 0), System.monotonic_time(:millisecond) + 5_000)
    assert_prediction(row, answer)
    assert waited_ms < 5_000
    assert PyPort.os_pid() != old_pid
    assert Process.whereis(PyPort.Supervisor) == supervisor
  end

  test "past the restart intensity the supervisor gives up instead of looping" do
    stop_supervised!(PyPort.Supervisor)
    Process.flag(:trap_exit, true)
    {:ok, supervisor} = PyPort.Supervisor.start_link(PyPort.config_from_env() ++ [max_restarts: 1, max_seconds: 30])
    [row | _] = @expected
    for _ <- 1..2 do
      {answer, _} = first_answer(elem(row, 0), System.monotonic_time(:millisecond) + 5_000)
      assert_prediction(row, answer)
      System.cmd("kill", ["-9", Integer.to_string(PyPort.os_pid())])
    end
    assert_receive {:EXIT, ^supervisor, :shutdown}, 5_000
    assert PyPort.predict(elem(row, 0)) == {:error, :not_running}
  end

  # Ask until a worker answers (the name is unregistered while the supervisor restarts PyPort).
  defp first_answer(features, deadline, started \\ System.monotonic_time(:millisecond)) do
    answer = PyPort.predict(features, @patient_ms)
    now = System.monotonic_time(:millisecond)
    if match?({:ok, _}, answer) or now > deadline do
      {answer, now - started}
    else
      Process.sleep(5)
      first_answer(features, deadline, started)
    end
  end
end
