module pave.local/pave

go 1.21
