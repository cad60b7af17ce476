"""Shared code for the recipe-sandbox scripts."""
