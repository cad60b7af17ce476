"""The embedded demo (rules/data.smk prepare_demo, scripts/build_demo_task.py): its
corpus and its downstream task."""
