OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'disagree',
    'points': 2,
    'suites': [   {   'cases': [{'code': '>>> assert isinstance(least_alike_photo, int) and 0 <= least_alike_photo < len(images)\n', 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
