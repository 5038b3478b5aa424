"""SQLite storage: the only place SQL lives. See `storage.store.Store`."""

from storage.store import ConversationRow, MessageRow, NextStep, Store

__all__ = ["ConversationRow", "MessageRow", "NextStep", "Store"]
