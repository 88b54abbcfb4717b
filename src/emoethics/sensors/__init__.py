"""Non-LLM scorers: fast, deterministic measurements that do not depend on a chat model."""
