"""Domain operations: one function per operation. Each checks permissions, runs one
transaction, writes its audit event, and leaves side effects until after commit."""
