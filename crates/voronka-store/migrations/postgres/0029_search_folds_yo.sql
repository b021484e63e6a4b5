-- The search text writes ё as е, as searches are read (`voronka_core::intake::keys::fold_search`):
-- "Артем" finds "Артём".
UPDATE leads SET search_text = replace(search_text, 'ё', 'е') WHERE strpos(search_text, 'ё') > 0;
