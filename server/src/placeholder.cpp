// Keeps the target non-empty while the module's sources arrive; removed once they do.
