"""The board as the team's internal dashboard: what changed (deploys), who is on call, and
how the providers we depend on are doing. Never shown on a public surface. README "The
board"."""
