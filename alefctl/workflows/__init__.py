"""Business rules, one function per workflow step; front ends only parse, call and render."""
