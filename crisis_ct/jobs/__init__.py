"""Background work on a schedule: the registry of jobs each domain adds to, the runner
that runs each job once at a time across every worker process and host and records its
runs, the workers' heartbeats, and what `crisis-ct jobs` and /healthz report."""
