"""Tasks the worker can run. (The build task arrives with the build-jobs work.)"""
