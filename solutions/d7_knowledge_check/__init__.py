"""Drill d7: the knowledge check and the quiz, answered in answers.toml (questions in QUESTIONS.md)."""
