"""Read models at scale: what the inbox and the lists show, as typed rows, by queries that read only
the columns shown and stop at the page (never a whole instance row, never a count of everything)."""
