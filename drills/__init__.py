"""The drills: starters that you, the learner, complete. Checks live beside each starter."""
