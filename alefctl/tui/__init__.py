"""alefctl console: the admins' Textual dashboard over the workflows (docs/architecture.md, "Layers")."""
