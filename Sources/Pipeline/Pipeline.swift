/// Pipeline: pipeline YAML files, staged workers with bounded queues, the nightly
/// queue, the resume journal, quarantine and progress.
