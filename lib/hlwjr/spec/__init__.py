"""The interface spec (接口规范): the model, loading and writing spec directories, diff and
export; ``importing`` reads the platform's Word/Excel documents.
"""
