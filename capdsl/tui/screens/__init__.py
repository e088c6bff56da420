"""Modal screens: help, explain a code, problems (infeasible, error), confirm, prompt."""
