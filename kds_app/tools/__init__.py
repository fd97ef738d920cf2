"""`kds --screenshots` and `kds --self-test`: one-shot runs of the real app that write pictures or a report."""
