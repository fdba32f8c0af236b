"""Operations (日常运行): the nightly production run, its run records, status and reconciliation,
the refused list and resend, backfill, alerts and the monitor page."""
