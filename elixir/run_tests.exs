# elixir elixir/run_tests.exs SUITE...   (SUITE: mini_json, py_port, sentiment_client)
# The course's ExUnit suites, without Mix: the library files, then the named test files.
# py_port needs PYPORT_PYTHON, PYPORT_MODEL, PYPORT_CWD and PYPORT_EXPECTED; sentiment_client needs
# D1_URL and D1_EXPECTED. tests/test_elixir.py sets them up and runs these (skipped without elixir).
for file <- ~w(mini_json sentiment_client py_port py_port_supervisor), do: Code.require_file("lib/#{file}.ex", __DIR__)
ExUnit.start(capture_log: true)
for suite <- System.argv(), do: Code.require_file("test/#{suite}_test.exs", __DIR__)
