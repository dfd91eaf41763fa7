defmodule SentimentClient do
  @moduledoc """
  Drill d1's API from Elixir, with OTP's own `:httpc` (the source used HTTPoison, a hex package):
  `POST /api/sentiment`, 429 and 503 honoured by waiting their `Retry-After`, one deadline for the
  whole call. The Python twin is drill d6's client (`mlcourse.pipeline.errors` names its outcomes).

      SentimentClient.classify("http://127.0.0.1:8000", "I love Elixir!", deadline_ms: 2_000)
      #=> {:ok, %{"label" => "positive", "score" => 0.93}}

  Other answers: `{:error, :deadline}` (the deadline came first, or a `Retry-After` would pass it:
  never a late answer), `{:error, {:gave_up, status}}` (`max_attempts` refusals),
  `{:error, {:http, status, body}}` (an answer no retry can change, such as 422) and
  `{:error, {:transport, reason}}` (no connection).
  """

  @default_retry_after_s 1  # a 429 or 503 that does not say how long to wait
  @profile :sentiment_client

  def classify(base_url, text, opts \\ []) do
    deadline = now_ms() + Keyword.get(opts, :deadline_ms, 5_000)
    attempt(base_url, text, deadline, Keyword.get(opts, :max_attempts, 5))
  end

  defp attempt(base_url, text, deadline, attempts_left) do
    case post_once(base_url, text, deadline - now_ms()) do
      {:retry, _seconds, status} when attempts_left <= 1 -> {:error, {:gave_up, status}}
      {:retry, seconds, _status} ->
        if now_ms() + seconds * 1_000 >= deadline do
          {:error, :deadline}  # waiting as told would overrun: say so now rather than late
        else
          Process.sleep(seconds * 1_000)
          attempt(base_url, text, deadline, attempts_left - 1)
        end
      answer -> answer
    end
  end

  @doc "One POST within `timeout_ms`: an answer, `{:retry, seconds, status}` for a 429 or 503, or an error."
  def post_once(_base_url, _text, timeout_ms) when timeout_ms <= 0, do: {:error, :deadline}

  def post_once(base_url, text, timeout_ms) do
    :ok = ensure_profile()
    request = {String.to_charlist(base_url <> "/api/sentiment"), [], ~c"application/json",
               MiniJSON.encode(%{"text" => text})}
    options = [timeout: timeout_ms, connect_timeout: timeout_ms]
    case :httpc.request(:post, request, options, [body_format: :binary], @profile) do
      {:ok, {{_, 200, _}, _headers, body}} -> decoded(body)
      {:ok, {{_, status, _}, headers, _body}} when status in [429, 503] -> {:retry, retry_after(headers), status}
      {:ok, {{_, status, _}, _headers, body}} -> {:error, {:http, status, body}}
      {:error, :timeout} -> {:error, :deadline}
      {:error, reason} -> {:error, {:transport, reason}}
    end
  end

  defp decoded(body) do
    case MiniJSON.decode(body) do
      {:ok, %{"label" => _, "score" => _} = prediction} -> {:ok, prediction}
      _ -> {:error, {:http, 200, body}}  # a 200 that is not a prediction is the server's bug, not a retry
    end
  end

  # RFC 9110 delay-seconds (the HTTP-date form falls back to the default).
  defp retry_after(headers) do
    with {_, value} <- List.keyfind(headers, ~c"retry-after", 0),
         {seconds, ""} when seconds >= 0 <- Integer.parse(to_string(value)) do
      seconds
    else
      _ -> @default_retry_after_s
    end
  end

  # :httpc queues up to 5 requests behind one another on a kept-alive connection (its default
  # max_keep_alive_length): concurrent callers would wait in the client, invisible to the server's
  # queue and its 429s. This client's own profile sends each request on an idle or a new connection.
  defp ensure_profile do
    {:ok, _} = Application.ensure_all_started(:inets)
    case :inets.start(:httpc, profile: @profile) do
      {:ok, _} -> :ok
      {:error, {:already_started, _}} -> :ok
    end
    :httpc.set_options([max_keep_alive_length: 0, max_sessions: 64], @profile)
  end

  defp now_ms, do: System.monotonic_time(:millisecond)
end
