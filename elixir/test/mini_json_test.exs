defmodule MiniJSONTest do
  use ExUnit.Case, async: true

  test "encodes the request body, escaping what JSON must escape" do
    assert MiniJSON.encode(%{"text" => "say \"hi\"\\\n\t\u0001é 😀"}) ==
             ~S({"text":"say \"hi\"\\\n\t\u0001é 😀"})
    assert MiniJSON.encode([1, 2.5, true, false, nil, :ok]) == ~S([1,2.5,true,false,null,"ok"])
  end

  test "refuses a binary that is not UTF-8" do
    assert_raise ArgumentError, fn -> MiniJSON.encode(<<0xFF>>) end
  end

  test "decodes the answer and the error shapes of d1" do
    assert MiniJSON.decode(~S({"label": "positive", "score": 0.873421})) ==
             {:ok, %{"label" => "positive", "score" => 0.873421}}
    assert MiniJSON.decode(~S({"error": {"code": "queue_full", "message": "retry later"}})) ==
             {:ok, %{"error" => %{"code" => "queue_full", "message" => "retry later"}}}
  end

  test "decodes numbers, literals, escapes and surrogate pairs" do
    assert MiniJSON.decode(~S( [0, -12, 1.5, -2.5e3, 1E2, true, false, null, {}, []] )) ==
             {:ok, [0, -12, 1.5, -2500.0, 100.0, true, false, nil, %{}, []]}
    assert MiniJSON.decode(~S("\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00")) == {:ok, "\"\\/\b\f\n\r\té😀"}
  end

  test "a round trip gives back what was encoded" do
    term = %{"text" => "naïve \"quote\" \\ 😀\n", "n" => [1, -2, 3.25], "ok" => true, "none" => nil}
    assert MiniJSON.decode(MiniJSON.encode(term)) == {:ok, term}
  end

  test "refuses what is not JSON" do
    for text <- ["", "[1,]", ~S({"a":1,}), ~S({"a" 1}), "01", "1.", "-", ~S("abc), "\"\u0001\"", ~S("\x"),
                 ~S("\ud83d"), "tru", "[1] 2", "{1: 2}"] do
      assert {:error, _} = MiniJSON.decode(text), "accepted #{inspect(text)}"
    end
  end
end
