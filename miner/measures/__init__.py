"""Measures that trends and the backlog both use, below both of them:

- `impact`: score kinds (NPS, CSAT, stars, mean), their figures and a theme's impact on them;
- `scores`: which stored documents carry a score, on which scale;
- `accounts`: accounts by revenue and satisfaction (model, at risk, growth, dangling);
- `theme_targets`: where merged themes ended.
"""
