module pave.internal/pave

go 1.21
