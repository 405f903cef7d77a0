"""A one-family factory with round figures (every quote line can be worked out by hand)."""

from __future__ import annotations


def _frame(text: str):
    import io

    import pandas as pd

    return pd.read_csv(io.StringIO(text.strip() + "\n"))


def tiny_assumptions(policy: str = "cost_plus,0.5,", band: str = "80,120"):
    """A one-family factory with round figures, so every quote line can be worked out by hand.

    Fixed costs 1000 rent + 1 x 3000 wages + 2 x 1200 / 24 printers = 4100 USD/month; labour 3000 / 150 h =
    20 USD/h; plan 100 units of 2 h and 50 g, failure rate 0.2.
    """
    from somana_core.economics import FounderAssumptions

    factory = _frame("""
name,family,value,unit,kind,source
rent_per_month,,1000,USD/month,assumption,test
staff_count,,1,people,assumption,test
wage_per_person_per_month,,3000,USD/month,assumption,test
productive_hours_per_person_per_month,,150,h/month,assumption,test
utilities_per_month,,0,USD/month,assumption,test
software_and_insurance_per_month,,0,USD/month,assumption,test
printer_count,,2,machines,assumption,test
printer_price,,1200,USD,assumption,test
printer_life_months,,24,months,assumption,test
changeover_minutes,,15,min,assumption,test
salvage_fraction_of_cost,,0.1,fraction,assumption,test
mto_cost_premium,,0.15,fraction,assumption,test
demand_coefficient_of_variation,,0.5,fraction,assumption,test
planned_monthly_units,frame,100,units/month,assumption,test
""")
    rates = _frame("""
name,scope,value,unit,kind,source
machine_power_w,*,100,W,assumption,test
electricity_usd_per_kwh,*,0.2,USD/kWh,assumption,test
maintenance_usd_per_h,*,0.08,USD/h,assumption,test
setup_min,*,6,min,assumption,test
post_processing_min,*,12,min,assumption,test
failure_rate,*,0.2,fraction,assumption,test
purge_g,*,0,g,assumption,test
waste_fraction,*,0,fraction,assumption,test
components_usd,*,5,USD,assumption,test
packaging_usd,*,1,USD,assumption,test
printing_hours_per_day,*,20,h/day,assumption,test
handling_days,*,1,days,assumption,test
quantity_break,*,1,units,assumption,test
quantity_break,*,10,units,assumption,test
""")
    portfolio = _frame(f"""
family,display_name,price_low_usd,price_high_usd,gross_margin_low,gross_margin_high
frame,Test frame,{band},0.5,0.7
""")
    typical = _frame("""
family,print_hours,filament_g,material,machine,units_per_order
frame,2,50,PLA,m1,1
""")
    pricing = _frame(f"""
family,method,target_operating_margin,band_position,source
frame,{policy},test
""")
    materials = _frame("""
material,price_usd_per_kg
PLA,20
""")
    return FounderAssumptions.from_tables(factory, rates, portfolio, typical, pricing, materials)

