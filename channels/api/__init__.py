"""JSON chat API for the FAQ widget and the staff console."""
