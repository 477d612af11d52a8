"""Larder's users: accounts and their administration."""
