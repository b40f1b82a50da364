"""SavedModel (and TFLite) export in TF Serving's layout.

``saved_model.export(serving_module, base)`` writes ``base/<version>``;
``from_checkpoint.export_latest(model_dir, base)`` does it for a training run;
``image_serving`` defines the image signatures.
"""
