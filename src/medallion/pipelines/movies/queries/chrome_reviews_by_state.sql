-- Reviews written with the Chrome browser, per state, most reviews first.
SELECT l.location AS state,
       SUM(f.review_count) AS reviews
FROM fact_movie_analytics AS f
JOIN dim_location AS l ON l.id_dim_location = f.id_dim_location
JOIN dim_browser AS b ON b.id_dim_browser = f.id_dim_browser
WHERE b.browser = 'Chrome'
GROUP BY l.location
ORDER BY reviews DESC, state
