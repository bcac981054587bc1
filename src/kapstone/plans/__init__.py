"""Program templates (versioned clinic policy) and each patient's signed treatment plan."""
