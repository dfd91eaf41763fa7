# elixir elixir/classify.exs BASE_URL DEADLINE_MS TEXT...
# Classifies each text with SentimentClient, one JSON line per text on stdout (for the Python side).
for file <- ~w(mini_json sentiment_client), do: Code.require_file("lib/#{file}.ex", __DIR__)

[base_url, deadline_ms | texts] = System.argv()

for text <- texts do
  started = System.monotonic_time(:millisecond)
  result = SentimentClient.classify(base_url, text, deadline_ms: String.to_integer(deadline_ms))
  elapsed_ms = System.monotonic_time(:millisecond) - started
  line = case result do
    {:ok, prediction} -> Map.merge(prediction, %{"text" => text, "elapsed_ms" => elapsed_ms})
    {:error, reason} -> %{"text" => text, "error" => inspect(reason), "elapsed_ms" => elapsed_ms}
  end
  IO.puts(MiniJSON.encode(line))
end
