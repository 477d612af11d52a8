"""Recipe ideas from Reddit."""
