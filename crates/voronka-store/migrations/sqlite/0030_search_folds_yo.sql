-- The search text writes ё as е, as searches are read (`voronka_core::intake::keys::fold_search`):
-- "Артем" finds "Артём". The trigger on `search_text` queues each changed lead for the index.
UPDATE leads SET search_text = replace(search_text, 'ё', 'е') WHERE instr(search_text, 'ё') > 0;
