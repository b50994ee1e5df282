"""faults: tasks that misbehave (run inside pergil workers) and the caller-side helpers and
subprocess scripts of the reliability tests (test_cancel, test_faults, test_sigint, test_exit)."""
