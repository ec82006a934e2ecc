"""alefctl console: the admins' Textual dashboard over the workflows (DESIGN.md section 1)."""
