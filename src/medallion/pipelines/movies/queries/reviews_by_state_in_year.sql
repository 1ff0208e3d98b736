-- Reviews per state in the year given as :year (by session date), most reviews first.
SELECT l.location AS state,
       SUM(f.review_count) AS reviews
FROM fact_movie_analytics AS f
JOIN dim_location AS l ON l.id_dim_location = f.id_dim_location
JOIN dim_date AS d ON d.id_dim_date = f.id_dim_date
WHERE d.year = :year
GROUP BY l.location
ORDER BY reviews DESC, state
