defmodule SentimentClientTest do
  use ExUnit.Case  # not async: the tests share one small server, whose queue they fill on purpose

  # A served d1 on the fake model, one text per call at 100 ms, at most 2 waiting (tests/test_elixir.py).
  @url System.fetch_env!("D1_URL")
  # {text, label, score} as the fake model answers them, computed by the Python side.
  @expected System.fetch_env!("D1_EXPECTED") |> File.read!() |> :erlang.binary_to_term()

  test "answers: the server's prediction for each text, JSON written and read without a hex package" do
    for {text, label, score} <- @expected do
      assert SentimentClient.classify(@url, text) == {:ok, %{"label" => label, "score" => score}}
    end
  end

  test "an overloaded server answers 429 with Retry-After, and the retrying client still gets every answer" do
    once = concurrently(1..8, fn i -> SentimentClient.post_once(@url, "burst #{i}", 5_000) end)
    assert {:retry, 1, 429} in once, "no 429 among #{inspect(once)}"
    assert Enum.any?(once, &match?({:ok, _}, &1))
    retried = concurrently(1..8, fn i -> SentimentClient.classify(@url, "retried #{i}", deadline_ms: 8_000) end)
    assert Enum.all?(retried, &match?({:ok, _}, &1)), inspect(retried)
  end

  test "the deadline ends the call on time with {:error, :deadline}, never with a late answer" do
    # Every answer takes at least one 100 ms model call, and a 429 asks for 1 s: 60 ms is too short either way.
    started = System.monotonic_time(:millisecond)
    assert SentimentClient.classify(@url, "in a hurry", deadline_ms: 60) == {:error, :deadline}
    assert System.monotonic_time(:millisecond) - started <= 200
  end

  defp concurrently(inputs, fun) do
    inputs
    |> Task.async_stream(fun, max_concurrency: Enum.count(inputs), timeout: 15_000)
    |> Enum.map(fn {:ok, result} -> result end)
  end
end
