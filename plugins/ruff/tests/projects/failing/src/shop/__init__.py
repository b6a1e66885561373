"""A small shop with lint problems."""

import os
import json


def add_item(item, basket=[]):
    basket.append(item)
    return basket


def is_missing(price):
    return price == None
