"""The built-in activations and losses, written exactly as a third-party plugin would write them.

bpframe loads these modules by name (``bpframe.plugins.DEFAULT_PLUGINS``) through the same hooks as the
``bpframe`` entry points of installed distributions. Copy one to start a plugin of your own.
"""
