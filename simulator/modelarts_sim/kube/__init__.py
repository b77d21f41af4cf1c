"""The Kubernetes API of each simulated Lite pool (see app.KubeApi)."""
