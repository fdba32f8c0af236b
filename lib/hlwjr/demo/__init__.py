"""The demo hospital (演示医院): synthetic HIS exports and the end-to-end demo run."""
