<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="am">
<context>
    <name>AllDay</name>
    <message>
        <source>ALL DAY</source>
        <translation>የቀኑ ድምር</translation>
    </message>
    <message>
        <source>Nothing to cook</source>
        <translation>የሚበስል የለም</translation>
    </message>
    <message>
        <source>INGREDIENTS</source>
        <translation>ግብዓቶች</translation>
    </message>
</context>
<context>
    <name>App</name>
    <message>
        <source>{names}: not a station this server knows, so no ticket will come here · it knows {known} · choose in SETTINGS · tap to hide</source>
        <translation>{names}፦ ሰርቨሩ የማያውቀው ክፍል ነው፤ ስለዚህ ምንም ቲኬት እዚህ አይመጣም · የሚያውቃቸው {known} · በቅንብሮች ምረጥ · ለመደበቅ ንካ</translation>
    </message>
    <message>
        <source>1 tap from before this screen was re-pointed never reached the old server · kept on this PC in {folder}/ · tap to hide</source>
        <translation>ስክሪኑ ወደ ሌላ ሰርቨር ከመዞሩ በፊት የተደረገ 1 ንክኪ የድሮው ሰርቨር አልደረሰም · በዚህ ኮምፒውተር {folder}/ ውስጥ ተቀምጧል · ለመደበቅ ንካ</translation>
    </message>
    <message>
        <source>{n} taps from before this screen was re-pointed never reached the old server · kept on this PC in {folder}/ · tap to hide</source>
        <translation>ስክሪኑ ወደ ሌላ ሰርቨር ከመዞሩ በፊት የተደረጉ {n} ንክኪዎች የድሮው ሰርቨር አልደረሱም · በዚህ ኮምፒውተር {folder}/ ውስጥ ተቀምጠዋል · ለመደበቅ ንካ</translation>
    </message>
    <message>
        <source>EXPO</source>
        <translation>ኤክስፖ</translation>
    </message>
    <message>
        <source>ALL STATIONS</source>
        <translation>ሁሉም ክፍሎች</translation>
    </message>
    <message>
        <source>Could not save the settings: {reason}</source>
        <translation>ቅንብሮቹን ማስቀመጥ አልተቻለም፦ {reason}</translation>
    </message>
</context>
<context>
    <name>Card</name>
    <message>
        <source>DINE-IN</source>
        <translation>እዚህ</translation>
    </message>
    <message>
        <source>TAKEOUT</source>
        <translation>የሚወሰድ</translation>
    </message>
    <message>
        <source>DELIVERY</source>
        <translation>የሚደርስ</translation>
    </message>
    <message>
        <source>PICKUP</source>
        <translation>መጥቶ የሚወሰድ</translation>
    </message>
    <message>
        <source>POS</source>
        <translation>ካሼር</translation>
    </message>
    <message>
        <source>ONLINE</source>
        <translation>በኢንተርኔት</translation>
    </message>
    <message>
        <source>KIOSK</source>
        <translation>ኪዮስክ</translation>
    </message>
    <message>
        <source>VOID</source>
        <translation>ተሰርዟል</translation>
    </message>
    <message>
        <source>ADDED</source>
        <translation>ተጨምሯል</translation>
    </message>
    <message>
        <source>HOLD</source>
        <translation>ይቆይ</translation>
    </message>
    <message>
        <source>86</source>
        <translation>አልቋል</translation>
    </message>
    <message>
        <source>PRINTED</source>
        <translation>ታትሟል</translation>
    </message>
    <message>
        <source>⚠ ALLERGY: {allergens}</source>
        <translation>⚠ አለርጂ፦ {allergens}</translation>
    </message>
    <message>
        <source>T{table}</source>
        <translation>ጠረጴዛ {table}</translation>
    </message>
    <message>
        <source>1 guest</source>
        <translation>1 ሰው</translation>
    </message>
    <message>
        <source>{n} guests</source>
        <translation>{n} ሰው</translation>
    </message>
    <message>
        <source>← {station}</source>
        <translation>← ከ {station}</translation>
    </message>
    <message>
        <source>FIRES IN {time}</source>
        <translation>በ{time} ይጀምራል</translation>
    </message>
    <message>
        <source>UN-RUSH</source>
        <translation>አስቸኳይ አንሳ</translation>
    </message>
    <message>
        <source>RUSH</source>
        <translation>አስቸኳይ</translation>
    </message>
    <message>
        <source>FIRE COURSE {n}</source>
        <translation>ዙር {n} ጀምር</translation>
    </message>
    <message>
        <source>Note: {note}</source>
        <translation>ማስታወሻ፦ {note}</translation>
    </message>
    <message>
        <source>HELD</source>
        <translation>ተይዟል</translation>
    </message>
    <message>
        <source>▲ RUSH ▲</source>
        <translation>▲ አስቸኳይ ▲</translation>
    </message>
    <message>
        <source>TAP AGAIN</source>
        <translation>እንደገና ንካ</translation>
    </message>
    <message>
        <source>FIRE C{n}</source>
        <translation>ዙር {n}</translation>
    </message>
    <message>
        <source>TAP AGAIN TO FIRE</source>
        <translation>ለማስጀመር እንደገና ንካ</translation>
    </message>
    <message>
        <source>FIRE NOW</source>
        <translation>አሁን ጀምር</translation>
    </message>
    <message>
        <source>WAITING: {stations}</source>
        <translation>በመጠበቅ ላይ፦ {stations}</translation>
    </message>
    <message>
        <source>ON HOLD</source>
        <translation>ተይዟል</translation>
    </message>
    <message>
        <source>ON HOLD · COURSE {n}</source>
        <translation>ተይዟል · ዙር {n}</translation>
    </message>
    <message>
        <source>WAITING</source>
        <translation>በመጠበቅ ላይ</translation>
    </message>
    <message>
        <source>TAP AGAIN TO SERVE</source>
        <translation>ለማቅረብ እንደገና ንካ</translation>
    </message>
    <message>
        <source>TAP AGAIN TO BUMP</source>
        <translation>ለመጨረስ እንደገና ንካ</translation>
    </message>
    <message>
        <source>SERVE</source>
        <translation>አቅርብ</translation>
    </message>
    <message>
        <source>BUMP</source>
        <translation>ጨርስ</translation>
    </message>
    <message>
        <source>WAITING ON {n} STATIONS</source>
        <translation>{n} ክፍሎችን በመጠበቅ ላይ</translation>
    </message>
    <message>
        <source>ACKNOWLEDGE</source>
        <translation>አይቻለሁ</translation>
    </message>
    <message>
        <source>continues ▶</source>
        <translation>ይቀጥላል ▶</translation>
    </message>
    <message>
        <source>▼ MORE BELOW ▼</source>
        <translation>▼ ከታች ይቀጥላል ▼</translation>
    </message>
    <message>
        <source>{title} · cont.</source>
        <translation>{title} · ቀጣይ</translation>
    </message>
    <message>
        <source>Order {number}, {n} items</source>
        <translation>ትዕዛዝ {number}፣ {n} ምግቦች</translation>
    </message>
</context>
<context>
    <name>EightySix</name>
    <message>
        <source>86: {names}</source>
        <translation>አልቋል፦ {names}</translation>
    </message>
    <message>
        <source>86 {times}{n}</source>
        <translation>አልቋል {times}{n}</translation>
    </message>
    <message>
        <source>UN-86</source>
        <translation>እንደገና አለ</translation>
    </message>
    <message>
        <source>86</source>
        <translation>አልቋል</translation>
    </message>
    <message>
        <source>86 items</source>
        <translation>ያለቁ ምግቦች</translation>
    </message>
    <message>
        <source>86&apos;d now</source>
        <translation>አሁን ያለቁ</translation>
    </message>
    <message>
        <source>Nothing is 86&apos;d</source>
        <translation>ያለቀ ምግብ የለም</translation>
    </message>
    <message>
        <source>On the tickets here</source>
        <translation>እዚህ ባሉ ቲኬቶች ላይ</translation>
    </message>
    <message>
        <source>No other items on the tickets here</source>
        <translation>እዚህ ባሉ ቲኬቶች ላይ ሌላ ምግብ የለም</translation>
    </message>
</context>
<context>
    <name>FirstRun</name>
    <message>
        <source>&lt;h2&gt;This screen is ready. No tickets yet.&lt;/h2&gt;&lt;p&gt;&lt;b&gt;Just looking?&lt;/b&gt; Close this window and run &lt;code&gt;kds --demo&lt;/code&gt;: a simulated POS sends orders to a grill and an expo screen.&lt;/p&gt;&lt;p&gt;&lt;b&gt;Orders from a POS:&lt;/b&gt; the POS sends &lt;code&gt;POST /api/v1/orders&lt;/code&gt; to this screen&apos;s server; README, &quot;Sending orders&quot;, shows one with curl.&lt;/p&gt;&lt;p&gt;&lt;b&gt;A kitchen hub or Supabase?&lt;/b&gt; Tap &lt;b&gt;SETTINGS&lt;/b&gt; → &lt;i&gt;Pair with code&lt;/i&gt;: on the hub run &lt;code&gt;kds-backend pair --restaurant … --station grill&lt;/code&gt; and enter the code it prints.&lt;/p&gt;</source>
        <translation>&lt;h2&gt;ይህ ስክሪን ዝግጁ ነው። እስካሁን ቲኬት የለም።&lt;/h2&gt;&lt;p&gt;&lt;b&gt;ለማየት ብቻ?&lt;/b&gt; ይህን መስኮት ዝጋና &lt;code&gt;kds --demo&lt;/code&gt; አስጀምር፦ አስመሳይ ካሼር ለጥብስ ክፍልና ለኤክስፖ ስክሪን ትዕዛዞችን ይልካል።&lt;/p&gt;&lt;p&gt;&lt;b&gt;ትዕዛዞች ከካሼር (POS)፦&lt;/b&gt; ካሼሩ &lt;code&gt;POST /api/v1/orders&lt;/code&gt; ወደዚህ ስክሪን ሰርቨር ይልካል፤ README ውስጥ &quot;Sending orders&quot; በcurl ምሳሌ ያሳያል።&lt;/p&gt;&lt;p&gt;&lt;b&gt;የኩሽና ማዕከል ወይስ Supabase?&lt;/b&gt; &lt;b&gt;ቅንብሮች&lt;/b&gt;ን ንካ → &lt;i&gt;በኮድ አጣምር&lt;/i&gt;፦ በማዕከሉ ላይ &lt;code&gt;kds-backend pair --restaurant … --station grill&lt;/code&gt; አስጀምርና የሚያትመውን ኮድ አስገባ።&lt;/p&gt;</translation>
    </message>
</context>
<context>
    <name>Intent</name>
    <message>
        <source>start</source>
        <translation>መጀመር</translation>
    </message>
    <message>
        <source>bump item</source>
        <translation>ምግብ መጨረስ</translation>
    </message>
    <message>
        <source>unbump item</source>
        <translation>ምግብ መመለስ</translation>
    </message>
    <message>
        <source>bump ticket</source>
        <translation>ቲኬት መጨረስ</translation>
    </message>
    <message>
        <source>recall</source>
        <translation>መመለስ</translation>
    </message>
    <message>
        <source>serve</source>
        <translation>ማቅረብ</translation>
    </message>
    <message>
        <source>rush</source>
        <translation>ማስቸኮል</translation>
    </message>
    <message>
        <source>hold</source>
        <translation>ማቆየት</translation>
    </message>
    <message>
        <source>fire</source>
        <translation>ማስጀመር</translation>
    </message>
    <message>
        <source>ack change</source>
        <translation>ለውጥ ማረጋገጥ</translation>
    </message>
    <message>
        <source>transfer</source>
        <translation>ማዛወር</translation>
    </message>
    <message>
        <source>eighty six</source>
        <translation>አልቋል ማለት</translation>
    </message>
</context>
<context>
    <name>ItemStatus</name>
    <message>
        <source>new</source>
        <translation>አዲስ</translation>
    </message>
    <message>
        <source>cooking</source>
        <translation>በመብሰል ላይ</translation>
    </message>
    <message>
        <source>done</source>
        <translation>ተጠናቋል</translation>
    </message>
    <message>
        <source>voided</source>
        <translation>ተሰርዟል</translation>
    </message>
</context>
<context>
    <name>Language</name>
    <message>
        <source>English</source>
        <comment>this language&apos;s own name, in the SETTINGS picker</comment>
        <translation>አማርኛ</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>MOVE</source>
        <translation>አዛውር</translation>
    </message>
    <message>
        <source>MOVE: TAP A TICKET</source>
        <translation>አዛውር፦ ቲኬት ንካ</translation>
    </message>
    <message>
        <source>● CONNECTING</source>
        <translation>● በመገናኘት ላይ</translation>
    </message>
    <message>
        <source>● ONLINE</source>
        <translation>● ተገናኝቷል</translation>
    </message>
    <message>
        <source>● RECONNECTING</source>
        <translation>● እንደገና በመገናኘት ላይ</translation>
    </message>
    <message>
        <source>● OFFLINE</source>
        <translation>● ግንኙነት የለም</translation>
    </message>
    <message>
        <source>All synced</source>
        <translation>ሁሉም ተልኳል</translation>
    </message>
    <message>
        <source>{depth} to sync</source>
        <translation>{depth} ለመላክ</translation>
    </message>
    <message>
        <source>{depth} to sync · oldest {age}</source>
        <translation>{depth} ለመላክ · የቆየው {age}</translation>
    </message>
    <message>
        <source>nothing waiting to sync</source>
        <translation>ለመላክ የሚጠብቅ የለም</translation>
    </message>
    <message>
        <source>1 change waiting to sync</source>
        <translation>1 ለውጥ ለመላክ ይጠብቃል</translation>
    </message>
    <message>
        <source>{depth} changes waiting to sync</source>
        <translation>{depth} ለውጦች ለመላክ ይጠብቃሉ</translation>
    </message>
    <message>
        <source> (oldest {age})</source>
        <translation> (የቆየው {age})</translation>
    </message>
    <message>
        <source>OFFLINE · {waiting} · keep working, taps are saved here</source>
        <translation>ግንኙነት የለም · {waiting} · መስራት ቀጥል፣ ንክኪዎች እዚህ ይቀመጣሉ</translation>
    </message>
    <message>
        <source>no internet{down}</source>
        <translation>ኢንተርኔት የለም{down}</translation>
    </message>
    <message>
        <source> · {waiting} to sync</source>
        <translation> · {waiting} ለመላክ</translation>
    </message>
    <message>
        <source>No new orders heard for {seconds} s — reconnecting</source>
        <translation>ለ{seconds} ሰከንድ አዲስ ትዕዛዝ አልተሰማም — እንደገና በመገናኘት ላይ</translation>
    </message>
    <message>
        <source>1 tap waiting, saved here</source>
        <translation>1 ንክኪ ይጠብቃል፣ እዚህ ተቀምጧል</translation>
    </message>
    <message>
        <source>{depth} taps waiting, saved here</source>
        <translation>{depth} ንክኪዎች ይጠብቃሉ፣ እዚህ ተቀምጠዋል</translation>
    </message>
    <message>
        <source>the password for {account}</source>
        <translation>የ{account} የይለፍ ቃል</translation>
    </message>
    <message>
        <source>this screen&apos;s password</source>
        <translation>የዚህን ስክሪን የይለፍ ቃል</translation>
    </message>
    <message>
        <source>SIGN-IN NEEDED · {waiting} · tap SETTINGS and enter {whose}</source>
        <translation>መግባት ያስፈልጋል · {waiting} · ቅንብሮችን ንካና {whose} አስገባ</translation>
    </message>
    <message>
        <source>RECALL</source>
        <translation>መልስ</translation>
    </message>
    <message>
        <source>SETTINGS</source>
        <translation>ቅንብሮች</translation>
    </message>
    <message>
        <source>ALL DAY</source>
        <translation>የቀኑ ድምር</translation>
    </message>
    <message>
        <source>86</source>
        <translation>አልቋል</translation>
    </message>
    <message>
        <source>● SIGNED OUT</source>
        <translation>● አልገባም</translation>
    </message>
    <message>
        <source>● LAN ONLY</source>
        <translation>● የውስጥ መረብ ብቻ</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>እሺ</translation>
    </message>
    <message>
        <source>  (+{n} more)</source>
        <translation>  (+{n} ተጨማሪ)</translation>
    </message>
    <message>
        <source>refused by the server</source>
        <translation>ሰርቨሩ አልተቀበለውም</translation>
    </message>
    <message>
        <source>Not done: {what}. {reason}</source>
        <translation>አልተፈጸመም፦ {what}። {reason}</translation>
    </message>
    <message>
        <source>KDS · {title}</source>
        <translation>የኩሽና ስክሪን · {title}</translation>
    </message>
    <message>
        <source>COMPACT</source>
        <translation>አጭር</translation>
    </message>
    <message>
        <source>{n} open</source>
        <translation>{n} ክፍት</translation>
    </message>
    <message>
        <source> · {n} on hold</source>
        <translation> · {n} ተይዘዋል</translation>
    </message>
    <message>
        <source>{item} is {status}: only items still to cook can move</source>
        <translation>{item} {status} ነው፦ ሊዛወሩ የሚችሉት ገና የሚበስሉ ምግቦች ብቻ ናቸው</translation>
    </message>
    <message>
        <source>Move {item} of #{number} from {station} to:</source>
        <translation>የ#{number} {item}ን ከ{station} ወደ፦</translation>
    </message>
    <message>
        <source>Move the open items of #{number} to:</source>
        <translation>የ#{number} ክፍት ምግቦችን ወደ፦</translation>
    </message>
    <message>
        <source>Move #{number} from {station} to:</source>
        <translation>#{number}ን ከ{station} ወደ፦</translation>
    </message>
</context>
<context>
    <name>NotConnected</name>
    <message>
        <source>KDS · not connected</source>
        <translation>የኩሽና ስክሪን · አልተገናኘም</translation>
    </message>
    <message>
        <source>This screen is not connected</source>
        <translation>ይህ ስክሪን አልተገናኘም</translation>
    </message>
    <message>
        <source>SETTINGS</source>
        <translation>ቅንብሮች</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>እንደገና ሞክር</translation>
    </message>
    <message>
        <source>the built-in server</source>
        <translation>አብሮ የተሰራው ሰርቨር</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>በመገናኘት ላይ…</translation>
    </message>
    <message>
        <source>Connecting to {where}. The tickets show as soon as it answers, or from this screen&apos;s last sign-in if it does not.</source>
        <translation>ከ{where} ጋር በመገናኘት ላይ። ልክ እንደመለሰ ቲኬቶቹ ይታያሉ፤ ካልመለሰ ደግሞ በዚህ ስክሪን የመጨረሻ መግቢያ ይታያሉ።</translation>
    </message>
</context>
<context>
    <name>PageBar</name>
    <message>
        <source>◀  PREV</source>
        <translation>◀  ቀዳሚ</translation>
    </message>
    <message>
        <source>NEXT  ▶</source>
        <translation>ቀጣይ  ▶</translation>
    </message>
    <message>
        <source>page {page}/{pages}</source>
        <translation>ገጽ {page}/{pages}</translation>
    </message>
    <message>
        <source>No open tickets</source>
        <translation>ክፍት ቲኬት የለም</translation>
    </message>
    <message>
        <source>{n} above · </source>
        <translation>{n} ከላይ · </translation>
    </message>
    <message>
        <source>+{n} more below</source>
        <translation>+{n} ከታች</translation>
    </message>
    <message>
        <source>all shown</source>
        <translation>ሁሉም ታይተዋል</translation>
    </message>
    <message>
        <source> · +{n} more</source>
        <translation> · +{n} ተጨማሪ</translation>
    </message>
</context>
<context>
    <name>Pane</name>
    <message>
        <source>EXPO</source>
        <translation>ኤክስፖ</translation>
    </message>
    <message>
        <source>ALL STATIONS</source>
        <translation>ሁሉም ክፍሎች</translation>
    </message>
    <message>
        <source>NEW</source>
        <translation>አዲስ</translation>
    </message>
    <message>
        <source>IN PROGRESS</source>
        <translation>በሂደት ላይ</translation>
    </message>
</context>
<context>
    <name>PinPrompt</name>
    <message>
        <source>Settings are locked</source>
        <translation>ቅንብሮች ተቆልፈዋል</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>እሺ</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>ተው</translation>
    </message>
    <message>
        <source>Enter the PIN to open SETTINGS</source>
        <translation>ቅንብሮችን ለመክፈት ፒኑን አስገባ</translation>
    </message>
    <message>
        <source>Wrong PIN. Try again.</source>
        <translation>የተሳሳተ ፒን። እንደገና ሞክር።</translation>
    </message>
</context>
<context>
    <name>PrepStrip</name>
    <message>
        <source>{station}  avg {avg} · p90 {p90} · 1 ticket</source>
        <translation>{station}  አማካይ {avg} · 90% በ{p90} · 1 ቲኬት</translation>
    </message>
    <message>
        <source>{station}  avg {avg} · p90 {p90} · {n} tickets</source>
        <translation>{station}  አማካይ {avg} · 90% በ{p90} · {n} ቲኬቶች</translation>
    </message>
    <message>
        <source>no tickets finished yet</source>
        <translation>እስካሁን የተጠናቀቀ ቲኬት የለም</translation>
    </message>
    <message>
        <source>TODAY</source>
        <translation>ዛሬ</translation>
    </message>
</context>
<context>
    <name>Probe</name>
    <message>
        <source>Enter the hub&apos;s address, e.g. kitchen-hub.local:8000</source>
        <translation>የማዕከሉን አድራሻ አስገባ፣ ለምሳሌ kitchen-hub.local:8000</translation>
    </message>
    <message>
        <source>{text} is not an address: the port must be a number</source>
        <translation>{text} አድራሻ አይደለም፦ ፖርቱ ቁጥር መሆን አለበት</translation>
    </message>
    <message>
        <source>{text} is not an address: use a name or IP, e.g. kitchen-hub.local:8000</source>
        <translation>{text} አድራሻ አይደለም፦ ስም ወይም IP ተጠቀም፣ ለምሳሌ kitchen-hub.local:8000</translation>
    </message>
    <message>
        <source>A pairing code has 8 letters and digits, like ABCD-EFGH (kds-backend pair prints it)</source>
        <translation>የማጣመሪያ ኮድ 8 ፊደላትና አሃዞች አሉት፣ እንደ ABCD-EFGH (kds-backend pair ያትመዋል)</translation>
    </message>
    <message>
        <source>{where} did not answer within {seconds} s: is the hub on, and on this network?</source>
        <translation>{where} በ{seconds} ሰከንድ ውስጥ አልመለሰም፦ ማዕከሉ በርቷል? በዚህ መረብ ላይ ነው?</translation>
    </message>
    <message>
        <source>Can&apos;t find {where}: check the name, or use the hub&apos;s IP address</source>
        <translation>{where} አልተገኘም፦ ስሙን አረጋግጥ፣ ወይም የማዕከሉን IP አድራሻ ተጠቀም</translation>
    </message>
    <message>
        <source>Can&apos;t reach {where}: is the hub on?</source>
        <translation>{where} ጋር መድረስ አልተቻለም፦ ማዕከሉ በርቷል?</translation>
    </message>
    <message>
        <source>{where} answered, but it does not pair screens: is it a kitchen hub (kds-backend)?</source>
        <translation>{where} መለሰ፣ ግን ስክሪኖችን አያጣምርም፦ የኩሽና ማዕከል (kds-backend) ነው?</translation>
    </message>
    <message>
        <source>Too many tries: wait {seconds} s and try again</source>
        <translation>በጣም ብዙ ሙከራ፦ {seconds} ሰከንድ ጠብቅና እንደገና ሞክር</translation>
    </message>
    <message>
        <source>{where} refused the code ({status})</source>
        <translation>{where} ኮዱን አልተቀበለም ({status})</translation>
    </message>
    <message>
        <source>{where} answered the pairing in a way this screen does not understand</source>
        <translation>{where} ለማጣመሩ ይህ ስክሪን በማይረዳው መንገድ መለሰ</translation>
    </message>
    <message>
        <source>{where} refused the anon key: pair again, or paste the key from kds-backend anon-key</source>
        <translation>{where} ይፋዊ ቁልፉን አልተቀበለም፦ እንደገና አጣምር፣ ወይም ቁልፉን ከkds-backend anon-key ለጥፍ</translation>
    </message>
    <message>
        <source>{where} answered, but is not well ({status}): see its log</source>
        <translation>{where} መለሰ፣ ግን ጤናማ አይደለም ({status})፦ መዝገቡን ተመልከት</translation>
    </message>
    <message>
        <source>{where} answered, but is not a kitchen server (no health check, {status})</source>
        <translation>{where} መለሰ፣ ግን የኩሽና ሰርቨር አይደለም (የጤና ምርመራ የለውም፣ {status})</translation>
    </message>
    <message>
        <source>{where} answers. Enter the password to check the sign-in too.</source>
        <translation>{where} ይመልሳል። መግባቱንም ለመፈተሽ የይለፍ ቃሉን አስገባ።</translation>
    </message>
    <message>
        <source>{where} refused the anon key: pair again, or check the key</source>
        <translation>{where} ይፋዊ ቁልፉን አልተቀበለም፦ እንደገና አጣምር፣ ወይም ቁልፉን አረጋግጥ</translation>
    </message>
    <message>
        <source>Sign-in as {email} was refused: {reason}</source>
        <translation>እንደ {email} መግባት አልተፈቀደም፦ {reason}</translation>
    </message>
    <message>
        <source>Can&apos;t sign in at {where}: {reason}</source>
        <translation>በ{where} መግባት አልተቻለም፦ {reason}</translation>
    </message>
    <message>
        <source>{email} signs in, but is not a device account (no restaurant or role)</source>
        <translation>{email} ይገባል፣ ግን የመሣሪያ መለያ አይደለም (ምግብ ቤት ወይም ሚና የለውም)</translation>
    </message>
    <message>
        <source>{email} is a {role} device, not a kitchen screen (kds or expo)</source>
        <translation>{email} የ{role} መሣሪያ ነው እንጂ የኩሽና ስክሪን (kds ወይም expo) አይደለም</translation>
    </message>
    <message>
        <source>all stations</source>
        <translation>ሁሉም ክፍሎች</translation>
    </message>
    <message>
        <source>Connected: {email} is a {role} screen of {restaurant} ({stations})</source>
        <translation>ተገናኝቷል፦ {email} የ{restaurant} {role} ስክሪን ነው ({stations})</translation>
    </message>
</context>
<context>
    <name>ReadyBoard</name>
    <message>
        <source>Order status</source>
        <translation>የትዕዛዝ ሁኔታ</translation>
    </message>
    <message>
        <source>PREPARING</source>
        <translation>በዝግጅት ላይ</translation>
    </message>
    <message>
        <source>READY</source>
        <translation>ዝግጁ</translation>
    </message>
</context>
<context>
    <name>Recall</name>
    <message>
        <source>RECALL</source>
        <translation>መልስ</translation>
    </message>
    <message>
        <source>bumped {age} ago</source>
        <translation>ከ{age} በፊት ተጠናቋል</translation>
    </message>
    <message>
        <source>Recall</source>
        <translation>መልሶ ማምጣት</translation>
    </message>
    <message>
        <source>RECALL LAST</source>
        <translation>የመጨረሻውን መልስ</translation>
    </message>
    <message>
        <source>Nothing bumped in the last 30 minutes</source>
        <translation>ባለፉት 30 ደቂቃዎች የተጠናቀቀ የለም</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>This screen (built-in server)</source>
        <translation>ይህ ስክሪን (አብሮ የተሰራ ሰርቨር)</translation>
    </message>
    <message>
        <source>Kitchen hub / companion</source>
        <translation>የኩሽና ማዕከል</translation>
    </message>
    <message>
        <source>Supabase project</source>
        <translation>የSupabase ፕሮጀክት</translation>
    </message>
    <message>
        <source>Station</source>
        <translation>ክፍል</translation>
    </message>
    <message>
        <source>Expo</source>
        <translation>ኤክስፖ</translation>
    </message>
    <message>
        <source>Screen settings</source>
        <translation>የስክሪን ቅንብሮች</translation>
    </message>
    <message>
        <source>Pair</source>
        <translation>አጣምር</translation>
    </message>
    <message>
        <source>https://… or http://192.168.1.10:8000</source>
        <translation>https://… ወይም http://192.168.1.10:8000</translation>
    </message>
    <message>
        <source>the project&apos;s anon (public) key</source>
        <translation>የፕሮጀክቱ ይፋዊ (anon) ቁልፍ</translation>
    </message>
    <message>
        <source>only needed to sign in again</source>
        <translation>እንደገና ለመግባት ብቻ ያስፈልጋል</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>ግንኙነቱን ሞክር</translation>
    </message>
    <message>
        <source>minutes</source>
        <translation>ደቂቃ</translation>
    </message>
    <message>
        <source>Sound for new tickets</source>
        <translation>ለአዲስ ቲኬት ድምፅ</translation>
    </message>
    <message>
        <source>none, or 192.168.1.50:9100</source>
        <translation>የለም፣ ወይም 192.168.1.50:9100</translation>
    </message>
    <message>
        <source>a new PIN, or empty to keep it</source>
        <translation>አዲስ ፒን፣ ወይም ያለውን ለማቆየት ባዶ ተው</translation>
    </message>
    <message>
        <source>none: anyone may open SETTINGS (4-8 digits)</source>
        <translation>የለም፦ ማንም ቅንብሮችን መክፈት ይችላል (4-8 አሃዞች)</translation>
    </message>
    <message>
        <source>Remove the PIN</source>
        <translation>ፒኑን አስወግድ</translation>
    </message>
    <message>
        <source>Copy logs</source>
        <translation>መዝገቡን ቅዳ</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>አስቀምጥ</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>ተው</translation>
    </message>
    <message>
        <source>Connection</source>
        <translation>ግንኙነት</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>ሰርቨር</translation>
    </message>
    <message>
        <source>Pair with code</source>
        <translation>በኮድ አጣምር</translation>
    </message>
    <message>
        <source>On the hub: kds-backend pair --restaurant … --station grill. It prints a code for a few minutes; enter the hub&apos;s address and the code, or paste both.</source>
        <translation>በማዕከሉ ላይ፦ kds-backend pair --restaurant … --station grill። ለጥቂት ደቂቃዎች የሚሰራ ኮድ ያትማል፤ የማዕከሉን አድራሻና ኮዱን አስገባ፣ ወይም ሁለቱንም ለጥፍ።</translation>
    </message>
    <message>
        <source>URL</source>
        <translation>አድራሻ</translation>
    </message>
    <message>
        <source>Anon key</source>
        <translation>ይፋዊ ቁልፍ</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>ኢሜይል</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>የይለፍ ቃል</translation>
    </message>
    <message>
        <source>What this screen shows</source>
        <translation>ይህ ስክሪን የሚያሳየው</translation>
    </message>
    <message>
        <source>View</source>
        <translation>እይታ</translation>
    </message>
    <message>
        <source>Stations</source>
        <translation>ክፍሎች</translation>
    </message>
    <message>
        <source>Split screen</source>
        <translation>የተከፈለ ማያ</translation>
    </message>
    <message>
        <source>Yellow after (min)</source>
        <translation>ቢጫ ከ(ደቂቃ) በኋላ</translation>
    </message>
    <message>
        <source>Red after (min)</source>
        <translation>ቀይ ከ(ደቂቃ) በኋላ</translation>
    </message>
    <message>
        <source>Font size ({low}-{high})</source>
        <translation>የፊደል መጠን ({low}-{high})</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>ቋንቋ</translation>
    </message>
    <message>
        <source>Save starts the screen again in the language chosen.</source>
        <translation>አስቀምጥ ሲነካ ስክሪኑ በተመረጠው ቋንቋ እንደገና ይጀምራል።</translation>
    </message>
    <message>
        <source>Own printer</source>
        <translation>የስክሪኑ ማተሚያ</translation>
    </message>
    <message>
        <source>When no server answers for a while, this screen prints its open tickets here.</source>
        <translation>ምንም ሰርቨር ለተወሰነ ጊዜ ካልመለሰ፣ ይህ ስክሪን ክፍት ቲኬቶቹን እዚህ ያትማል።</translation>
    </message>
    <message>
        <source>Lock</source>
        <translation>መቆለፊያ</translation>
    </message>
    <message>
        <source>Settings PIN</source>
        <translation>የቅንብሮች ፒን</translation>
    </message>
    <message>
        <source>Enter the server&apos;s URL, or pair with a code</source>
        <translation>የሰርቨሩን አድራሻ አስገባ፣ ወይም በኮድ አጣምር</translation>
    </message>
    <message>
        <source>Enter the anon key (kds-backend anon-key, or the Supabase project&apos;s)</source>
        <translation>ይፋዊ ቁልፉን አስገባ (kds-backend anon-key፣ ወይም የSupabase ፕሮጀክቱን)</translation>
    </message>
    <message>
        <source>Enter the screen&apos;s email</source>
        <translation>የስክሪኑን ኢሜይል አስገባ</translation>
    </message>
    <message>
        <source>Yellow after</source>
        <translation>ቢጫ</translation>
    </message>
    <message>
        <source>Red after</source>
        <translation>ቀይ</translation>
    </message>
    <message>
        <source>Red must come after yellow</source>
        <translation>ቀይ ከቢጫ በኋላ መምጣት አለበት</translation>
    </message>
    <message>
        <source>One pane</source>
        <translation>አንድ መስኮት</translation>
    </message>
    <message>
        <source>Second pane: EXPO</source>
        <translation>ሁለተኛ መስኮት: ኤክስፖ</translation>
    </message>
    <message>
        <source>Two panes: NEW | IN PROGRESS</source>
        <translation>ሁለት መስኮቶች: አዲስ | በሂደት ላይ</translation>
    </message>
    <message>
        <source>Second pane: {stations}</source>
        <translation>ሁለተኛ መስኮት: {stations}</translation>
    </message>
    <message>
        <source>No log to copy yet</source>
        <translation>እስካሁን የሚቀዳ መዝገብ የለም</translation>
    </message>
    <message>
        <source>Copied the last {n} lines of the log to the clipboard · {path}</source>
        <translation>የመዝገቡ የመጨረሻ {n} መስመሮች ተቀድተዋል · {path}</translation>
    </message>
    <message>
        <source>Pairing with {hub} …</source>
        <translation>ከ{hub} ጋር በማጣመር ላይ …</translation>
    </message>
    <message>
        <source>all stations</source>
        <translation>ሁሉም ክፍሎች</translation>
    </message>
    <message>
        <source>expo</source>
        <translation>ኤክስፖ</translation>
    </message>
    <message>
        <source>kds</source>
        <translation>የክፍል</translation>
    </message>
    <message>
        <source>Paired: {role} screen of {restaurant} ({stations}). Tap Save to connect.</source>
        <translation>ተጣምሯል፦ የ{restaurant} {role} ስክሪን ({stations})። ለመገናኘት አስቀምጥን ንካ።</translation>
    </message>
    <message>
        <source>The built-in server needs no connection: it runs on this screen</source>
        <translation>አብሮ የተሰራው ሰርቨር ግንኙነት አያስፈልገውም፦ በዚሁ ስክሪን ላይ ይሰራል</translation>
    </message>
    <message>
        <source>Checking {url} …</source>
        <translation>{url}ን በመፈተሽ ላይ …</translation>
    </message>
    <message>
        <source>Checking {url} before saving …</source>
        <translation>ከማስቀመጥ በፊት {url}ን በመፈተሽ ላይ …</translation>
    </message>
    <message>
        <source>{name} (unknown)</source>
        <translation>{name} (የማይታወቅ)</translation>
    </message>
    <message>
        <source>None ticked: every station. Test connection (or pair) to list the stations this server knows.</source>
        <translation>ምንም ካልተመረጠ፦ ሁሉም ክፍሎች። ሰርቨሩ የሚያውቃቸውን ክፍሎች ለማየት ግንኙነቱን ሞክር (ወይም አጣምር)።</translation>
    </message>
    <message>
        <source>None ticked: every station.</source>
        <translation>ምንም ካልተመረጠ፦ ሁሉም ክፍሎች።</translation>
    </message>
    <message>
        <source>{names}: not a station this server knows, so this screen would stay empty. Untick it, or route a category to it on the server. It knows: {known}.</source>
        <translation>{names}፦ ሰርቨሩ የማያውቀው ክፍል ነው፤ ስለዚህ ይህ ስክሪን ባዶ ይቀራል። ምርጫውን አንሳ፣ ወይም በሰርቨሩ ላይ ምድብ ወደሱ ምራ። የሚያውቃቸው፦ {known}።</translation>
    </message>
    <message>
        <source>none</source>
        <translation>የለም</translation>
    </message>
    <message>
        <source>{name} must be a number of minutes, not {text}</source>
        <translation>{name} የደቂቃ ቁጥር መሆን አለበት እንጂ {text} አይደለም</translation>
    </message>
    <message>
        <source>{name} must be more than 0 and at most 1440 minutes, not {text}</source>
        <translation>{name} ከ0 በላይና ቢበዛ 1440 ደቂቃ መሆን አለበት እንጂ {text} አይደለም</translation>
    </message>
    <message>
        <source>The PIN must be {low} to {high} digits</source>
        <translation>ፒኑ ከ{low} እስከ {high} አሃዞች መሆን አለበት</translation>
    </message>
</context>
<context>
    <name>SidePanel</name>
    <message>
        <source>CLOSE</source>
        <translation>ዝጋ</translation>
    </message>
</context>
<context>
    <name>StationPicker</name>
    <message>
        <source>CANCEL</source>
        <translation>ተው</translation>
    </message>
    <message>
        <source>No other station is known yet: ask the manager to add one</source>
        <translation>እስካሁን ሌላ የሚታወቅ ክፍል የለም፦ ሥራ አስኪያጁ እንዲጨምር ጠይቅ</translation>
    </message>
</context>
</TS>
