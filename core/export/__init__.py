"""Export a bundle to other deployment formats: MLflow's model format (`core.export.mlflow`)
and ONNX where the members allow it (`core.export.onnx`). The exporters are optional
extras (`pip install briefml[export]`); each imports its libraries only when called."""
