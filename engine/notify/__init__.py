"""Notifications: in-app notices about tasks (new in one's lanes, due soon, overdue), made by the
scheduler's polling job from the tasks' rows, so they need no hook in the write path."""
