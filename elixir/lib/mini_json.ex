defmodule MiniJSON do
  @moduledoc """
  Just enough JSON for the d1 client, with no hex package: OTP 25 has no `:json` module (OTP 27
  adds one) and Jason is not reachable here. `encode/1` writes maps, lists, strings, numbers,
  booleans and nil; `decode/1` reads any JSON text (RFC 8259) into maps with string keys.
  """

  @doc "A JSON string for `term`; raises ArgumentError on a binary that is not UTF-8 or a non-finite value."
  def encode(map) when is_map(map),
    do: "{" <> Enum.map_join(map, ",", fn {key, value} -> encode(to_string(key)) <> ":" <> encode(value) end) <> "}"

  def encode(list) when is_list(list), do: "[" <> Enum.map_join(list, ",", &encode/1) <> "]"
  def encode(true), do: "true"
  def encode(false), do: "false"
  def encode(nil), do: "null"
  def encode(atom) when is_atom(atom), do: encode(Atom.to_string(atom))
  def encode(int) when is_integer(int), do: Integer.to_string(int)
  def encode(float) when is_float(float), do: Float.to_string(float)

  def encode(text) when is_binary(text) do
    unless String.valid?(text), do: raise(ArgumentError, "not UTF-8: #{inspect(text, limit: 20)}")
    "\"" <> IO.iodata_to_binary(for <<char::utf8 <- text>>, do: escape(char)) <> "\""
  end

  defp escape(?"), do: "\\\""
  defp escape(?\\), do: "\\\\"
  defp escape(?\n), do: "\\n"
  defp escape(?\r), do: "\\r"
  defp escape(?\t), do: "\\t"
  defp escape(char) when char < 0x20, do: "\\u" <> String.pad_leading(Integer.to_string(char, 16), 4, "0")
  defp escape(char), do: <<char::utf8>>

  @doc "`{:ok, term}` or `{:error, reason}` for a JSON text."
  def decode(text) when is_binary(text) do
    {value, rest} = value(skip(text))
    if skip(rest) == "", do: {:ok, value}, else: {:error, {:trailing, byte_size(text) - byte_size(rest)}}
  catch
    {:json, reason} -> {:error, reason}
  end

  defp skip(<<c, rest::binary>>) when c in [?\s, ?\t, ?\n, ?\r], do: skip(rest)
  defp skip(rest), do: rest

  defp value("{" <> rest), do: object(skip(rest), %{})
  defp value("[" <> rest), do: array(skip(rest), [])
  defp value("\"" <> rest), do: string(rest, [])
  defp value("true" <> rest), do: {true, rest}
  defp value("false" <> rest), do: {false, rest}
  defp value("null" <> rest), do: {nil, rest}
  defp value(<<c, _::binary>> = text) when c == ?- or c in ?0..?9, do: number(text)
  defp value(_), do: throw({:json, :unexpected})

  defp object("}" <> rest, acc) when acc == %{}, do: {acc, rest}

  defp object("\"" <> rest, acc) do
    {key, rest} = string(rest, [])
    {value, rest} = case skip(rest) do
      ":" <> rest -> value(skip(rest))
      _ -> throw({:json, :expected_colon})
    end
    acc = Map.put(acc, key, value)
    case skip(rest) do
      "," <> rest -> object_key(skip(rest), acc)
      "}" <> rest -> {acc, rest}
      _ -> throw({:json, :expected_comma_or_brace})
    end
  end

  defp object(_, _), do: throw({:json, :expected_key})

  defp object_key("\"" <> _ = text, acc), do: object(text, acc)
  defp object_key(_, _), do: throw({:json, :expected_key})

  defp array("]" <> rest, []), do: {[], rest}

  defp array(text, acc) do
    {value, rest} = value(text)
    case skip(rest) do
      "," <> rest -> array_next(skip(rest), [value | acc])
      "]" <> rest -> {Enum.reverse([value | acc]), rest}
      _ -> throw({:json, :expected_comma_or_bracket})
    end
  end

  defp array_next("]" <> _, _), do: throw({:json, :trailing_comma})
  defp array_next(text, acc), do: array(text, acc)

  defp string("\"" <> rest, acc), do: {IO.iodata_to_binary(Enum.reverse(acc)), rest}
  defp string("\\u" <> <<digits::binary-size(4), rest::binary>>, acc) do
    {char, rest} = unicode(hex(digits), rest)
    string(rest, [char | acc])
  end

  defp string("\\" <> <<c, rest::binary>>, acc), do: string(rest, [unescape(c) | acc])
  defp string(<<c::utf8, rest::binary>>, acc) when c >= 0x20, do: string(rest, [<<c::utf8>> | acc])
  defp string(_, _), do: throw({:json, :bad_string})

  defp unescape(c) do
    case c do
      ?" -> "\""
      ?\\ -> "\\"
      ?/ -> "/"
      ?b -> "\b"
      ?f -> "\f"
      ?n -> "\n"
      ?r -> "\r"
      ?t -> "\t"
      _ -> throw({:json, :bad_escape})
    end
  end

  # A character above U+FFFF is escaped as a surrogate pair: \ud83d\ude00 is one emoji.
  defp unicode(high, "\\u" <> <<digits::binary-size(4), rest::binary>>) when high in 0xD800..0xDBFF do
    case hex(digits) do
      low when low in 0xDC00..0xDFFF -> {<<0x10000 + Bitwise.bsl(high - 0xD800, 10) + (low - 0xDC00)::utf8>>, rest}
      _ -> throw({:json, :lone_surrogate})
    end
  end

  defp unicode(code, _rest) when code in 0xD800..0xDFFF, do: throw({:json, :lone_surrogate})
  defp unicode(code, rest), do: {<<code::utf8>>, rest}

  defp hex(digits) do
    case Integer.parse(digits, 16) do
      {code, ""} -> code
      _ -> throw({:json, :bad_escape})
    end
  end

  @number ~r/\A-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/
  defp number(text) do
    [{0, length} | parts] = Regex.run(@number, text, return: :index) || throw({:json, :bad_number})
    <<literal::binary-size(length), rest::binary>> = text
    {if(parts == [], do: String.to_integer(literal), else: float(literal)), rest}
  end

  defp float(literal) do
    # Float.parse wants digits after a dot, and "1e5" has none: write it as 1.0e5.
    case Float.parse(String.replace(literal, ~r/^(-?[0-9]+)([eE])/, "\\1.0\\2")) do
      {value, ""} -> value
      _ -> throw({:json, :bad_number})
    end
  end
end
