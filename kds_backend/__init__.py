"""The companion backend: the subset of Supabase the KDS uses, plus POS order intake."""
