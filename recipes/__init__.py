"""Recipes: the heart of Larder."""
