"""What every Larder feature needs and no feature owns."""
