"""The engine: runs a scenario's profiles, spawns agents, ticks intervals, stops gracefully."""
